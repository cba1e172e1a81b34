"""The running connector seen from outside: its state (``state``), the status page, /status.json and
/metrics as routes on the connector's HTTP server (``routes``), and the page itself (``page``)."""
