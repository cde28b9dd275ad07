"""Live availability over WebSockets (graphql-transport-ws): the storefront subscription."""
