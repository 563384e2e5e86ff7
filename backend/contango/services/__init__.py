"""Use cases that the command line and the API call: load data, run the engine, save results."""
