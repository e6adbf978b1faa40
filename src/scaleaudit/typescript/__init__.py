"""The TypeScript/JavaScript front end (tree-sitter): same facts and findings as Python."""
