"""The pair session: its screen, dialogs and panes."""
