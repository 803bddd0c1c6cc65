"""The catalogue quotes are priced from: products, price books per currency, exchange rates."""
