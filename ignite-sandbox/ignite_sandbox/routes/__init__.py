"""One router per API: export, import, deprecated data tables, and the sandbox's admin."""
