"""One module per config section: its frozen dataclass and its parser."""
