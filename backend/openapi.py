"""`python -m backend.openapi`: print the app's OpenAPI document, as committed in docs/openapi.json."""

from backend.app import create_app, openapi_json
from backend.settings import ServerSettings

if __name__ == "__main__":
    print(openapi_json(create_app(ServerSettings(load_generators=False))), end="")
