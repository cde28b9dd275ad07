"""GraphQL API: Strawberry types, resolvers that only call the service, the Starlette app."""
