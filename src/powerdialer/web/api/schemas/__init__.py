"""The API's request and response bodies (pydantic), one module per area, in Create / Update /
Public families; the error codes each route documents are in :mod:`.error_codes`."""
