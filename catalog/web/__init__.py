"""What every blueprint shares and none owns (see the layout in the style guide)."""
