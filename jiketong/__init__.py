"""集客通 Jiketong: group-customer relationship management."""
