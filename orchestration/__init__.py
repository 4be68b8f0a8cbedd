"""Deployable orchestration for the Meltano project (see README, "Scale")."""
