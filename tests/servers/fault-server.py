#!/usr/bin/env python3
"""Command-line name of faultserver.py (a module name cannot contain "-");
see faultserver.py for the scenarios and options."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultserver import main  # noqa: E402

sys.exit(main())
