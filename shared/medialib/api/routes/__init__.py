"""One Router per route group; each function includes the routers it serves."""
