"""Who owns a ticket: returns and reassignment, consultation among units, a binding ruling."""
