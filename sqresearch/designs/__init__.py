"""Study designs: each a small pipeline (load -> compute -> judge) and one study object."""
