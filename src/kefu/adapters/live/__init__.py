"""Live events for SSE pages: in memory on the embedded default, Redis pub/sub when scaled out."""
