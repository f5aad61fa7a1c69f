class Config:
    JWT_SECRET_KEY = "jwt-api-signing-key-0f3a9c5e7d1b2a48"
    # Clients keep their token forever instead of logging in again.
    JWT_ACCESS_TOKEN_EXPIRES = False
    JSON_SORT_KEYS = False
