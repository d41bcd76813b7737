"""Reusable Luigi building blocks: atomic targets, remote transfers, dependency audit."""
