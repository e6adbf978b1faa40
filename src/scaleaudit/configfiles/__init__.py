"""Front end for configuration files: .env, schema.prisma, compose YAML, Procfile."""
