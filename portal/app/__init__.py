"""The application's infrastructure: configuration, database handle, errors, HTTP headers, translations, clock, identifiers,
migrations, the WSGI server and the ``ccus`` command (create_app itself is ``portal.create_app``)."""
