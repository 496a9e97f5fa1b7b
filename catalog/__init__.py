"""The city's data, read from disk: policy packs, the unit directory and responsibility list,
the intake lists, the working-day calendar, message templates.

Only activities, the API and the command line read it; workflows get what it loads through
activity results (in history), never from disk."""
