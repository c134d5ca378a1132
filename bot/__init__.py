"""vereinbar: answers employees' questions about work-life-balance offers."""
