"""Layout pieces shared by the dashboard pages; each is a function returning Dash components."""
