"""The GridWatch dashboard: a Dash app with the command-centre big screen."""
