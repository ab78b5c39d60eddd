"""Repository tools: the offline bundle, generated dashboards and rules, throwaway databases for tests."""
