"""HTTP plumbing shared by the routes: body limit and reading, request log, responses, problems."""
