"""Use cases that the command line and the API call: they load data, run the engine, save results."""
