"""Files attached to any record that declares it takes attachments."""
