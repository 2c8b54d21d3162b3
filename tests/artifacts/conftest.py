def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "lambda_build: imports the handlers from the built Lambda artifacts (make lambda-artifacts)",
    )
