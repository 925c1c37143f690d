"""Sources: one parser per source type (`feed`, `jekyll`), each a pure function of bytes."""
