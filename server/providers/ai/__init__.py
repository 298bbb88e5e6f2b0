"""AI providers: Gemini (google-genai) and the local engine."""
