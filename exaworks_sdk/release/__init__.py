"""Release readiness: has every cell the site registry expects run green with exactly the pins?"""
