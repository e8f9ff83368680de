#!/usr/bin/env python
import sys

from pomodoro.env import use_settings_from_environment

if __name__ == "__main__":
    use_settings_from_environment()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
