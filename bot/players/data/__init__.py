"""Package data: ``lexicon.tsv``, the offline player's noun list."""
