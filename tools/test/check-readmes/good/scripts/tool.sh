#!/bin/sh
# a fixture file for tools/check-readmes.py
