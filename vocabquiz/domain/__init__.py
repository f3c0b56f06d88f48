"""The quiz domain: pure rules over plain data, no I/O."""
