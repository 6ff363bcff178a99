"""The diff reader: the row model, highlighting and the widget that shows it."""
