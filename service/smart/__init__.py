"""The SMART App Launch client (EHR launch): the card's ``smart`` link opens ``/smart/launch``,
which sends the user to the EHR's authorization server (authorization code with PKCE), and
``/smart/callback`` exchanges the code, reads the patient's record with the token and answers
the relapse view. Tokens are never logged or stored; nothing of the patient outlives the
response."""
