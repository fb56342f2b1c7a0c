"""GridWatch: real-time monitoring and closed-loop dispatch for grid-based community governance."""
