"""One module per API resource; handler names are the snake_case of Docker's operationIds."""
