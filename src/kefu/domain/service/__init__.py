"""Service desk domain (tickets, complaints, SLA maths, channels): pure rules, no I/O."""
