"""`scaleaudit report`: the scalability review, written from evidence.

build.py turns a ScanResult (plus optional live results) into a `Report`
(model.py: frozen dataclasses of plain values); the renderers
(render_markdown, render_html, render_json) only format a Report.
"""
