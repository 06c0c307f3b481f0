"""The main window's docks: palette, inspector, code, summary and problems.

Each panel takes the editor controller (or nothing) and follows the document's signals; none of them
imports ``engine`` (and so torch) at module level, so the window can appear before torch loads.
"""
