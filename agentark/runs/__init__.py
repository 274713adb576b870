"""Runs and what they hold: traces of who changed their answer, curation marks, run names and tags, and
transcripts in and out (our own lossless JSONL and other tools' debate files).

Design decision: nothing here opens a model or starts a job; these modules read and write stored rows through
the store's query modules, so the pages, the CLI and the jobs can all use them.
"""
