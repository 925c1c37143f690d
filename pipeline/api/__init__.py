"""The read API and search page over the `news-articles` alias: `newsflow serve`.

`queries` builds Elasticsearch request bodies and reads their answers (pure), `page` renders the HTML
search page (pure), `backend` talks to Elasticsearch and turns its failures into ours, `app` wires the
FastAPI application from injected settings, `server` runs it with uvicorn.
"""
