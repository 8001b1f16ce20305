"""HTTP only: parse a request, call one backend, serialize the answer."""
