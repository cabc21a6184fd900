"""The API's OpenAPI 3.1 description, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _listing(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


def _ok(schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    errors = {
        code: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
        for code, text in (("400", "bad request"), ("401", "not authenticated"), ("403", "not allowed"))
    }
    return {status: {"description": "ok", "content": {"application/json": {"schema": schema}}}, **errors}


PAGING = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
        "description": "next_cursor of the last page",
    },
]
NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def document(topics: list[str]) -> dict[str, Any]:
    topic_schema: dict[str, Any] = {"type": "string", "enum": topics} if topics else {"type": "string"}
    not_found = {
        "404": {"description": "not found", "content": {"application/json": {"schema": _ref("Error")}}}
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "newswatch console API", "version": "1"},
        "security": [{"token": []}],
        "paths": {
            "/api/matches": {
                "get": {
                    "summary": "Matches, newest first",
                    "parameters": [
                        *PAGING,
                        {"name": "topic", "in": "query", "schema": {"type": "string"}},
                        {"name": "feed", "in": "query", "schema": {"type": "string"}},
                        {"name": "language", "in": "query", "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "schema": {"type": "string"}},
                        {"name": "until", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "feedback",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["relevant", "not-relevant", "none"]},
                        },
                    ],
                    "responses": _ok(_listing("Match")),
                }
            },
            "/api/articles": {
                "get": {
                    "summary": "Stored articles, newest first",
                    "parameters": PAGING,
                    "responses": _ok(_listing("Article")),
                }
            },
            "/api/articles/{article_id}": {
                "get": {
                    "summary": "One article with its matches, explanations, alerts and feedback",
                    "parameters": [
                        {"name": "article_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {**_ok(_ref("ArticleDetail")), **not_found},
                }
            },
            "/api/topics": {
                "get": {
                    "summary": "Topics with match counts and precision",
                    "responses": _ok(_listing("Topic")),
                }
            },
            "/api/feeds": {"get": {"summary": "Feed health", "responses": _ok(_listing("Feed"))}},
            "/api/feeds/{feed_id}/poll": {
                "post": {
                    "summary": "Poll a feed at the daemon's next tick, ahead of its schedule (operators)",
                    "parameters": [
                        {"name": "feed_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {
                        **_ok(
                            {
                                "type": "object",
                                "properties": {"id": {"type": "integer"}, "message": {"type": "string"}},
                            }
                        ),
                        **not_found,
                    },
                }
            },
            "/api/alerts": {
                "get": {
                    "summary": "The alert outbox, newest first",
                    "parameters": [*PAGING, {"name": "status", "in": "query", "schema": {"type": "string"}}],
                    "responses": _ok(_listing("Alert")),
                }
            },
            "/api/alerts/{alert_id}/retry": {
                "post": {
                    "summary": "Re-queue a failed alert (operators only)",
                    "parameters": [
                        {"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {
                        **_ok(
                            {
                                "type": "object",
                                "properties": {"id": {"type": "integer"}, "message": {"type": "string"}},
                            }
                        ),
                        **not_found,
                        "409": {
                            "description": "not retryable",
                            "content": {"application/json": {"schema": _ref("Error")}},
                        },
                    },
                }
            },
            "/api/search": {
                "get": {
                    "summary": "Stored articles of the last `days` days that a query matches, newest first",
                    "parameters": [
                        *PAGING,
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "a query in the watchlist language (@aliases, #topics)",
                        },
                        {
                            "name": "days",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                        },
                    ],
                    "responses": _ok(
                        {
                            **_listing("SearchHit"),
                            "required": ["items", "next_cursor", "total", "articles"],
                            "properties": {
                                **_listing("SearchHit")["properties"],
                                "total": {"type": "integer", "description": "matches on every page"},
                                "articles": {"type": "integer", "description": "articles searched"},
                            },
                        }
                    ),
                }
            },
            "/api/feedback": {
                "get": {
                    "summary": "Feedback, newest first",
                    "parameters": PAGING,
                    "responses": _ok(_listing("Feedback")),
                },
                "post": {
                    "summary": "Judge an article for a topic (replaces your earlier judgement)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["article_id", "topic", "relevant"],
                                    "properties": {
                                        "article_id": {"type": "integer"},
                                        "topic": topic_schema,
                                        "relevant": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {**_ok(_ref("Feedback"), "201"), **not_found},
                },
            },
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "code", "message"],
                            "properties": {
                                "status": {"type": "integer"},
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "column": {
                                    "type": "integer",
                                    "description": "where in the query sent the error is (invalid_query)",
                                },
                            },
                        }
                    },
                },
                "Match": {
                    "type": "object",
                    "properties": {
                        "match_id": {"type": "integer"},
                        "article_id": {"type": "integer"},
                        "topic": {"type": "string"},
                        "score": {"type": "number"},
                        "matched_at": {"type": "string", "format": "date-time"},
                        "title": {"type": "string"},
                        "url": NULLABLE_STRING,
                        "source": {"type": "string"},
                        "language": NULLABLE_STRING,
                        "published_at": NULLABLE_TIME,
                        "story_sources": {"type": "integer"},
                        "relevant": {"type": "integer"},
                        "not_relevant": {"type": "integer"},
                        "snippet": {"type": "array", "items": {"type": "array"}},
                    },
                },
                "SearchHit": {
                    "type": "object",
                    "properties": {
                        "article_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "url": NULLABLE_STRING,
                        "source": {"type": "string"},
                        "published_at": NULLABLE_TIME,
                        "score": {"type": "number"},
                        "terms": {"type": "array", "items": {"type": "string"}},
                        "snippet": {"type": "array", "items": {"type": "array"}},
                    },
                },
                "Article": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "url": NULLABLE_STRING,
                        "canonical_url": NULLABLE_STRING,
                        "author": NULLABLE_STRING,
                        "language": NULLABLE_STRING,
                        "source": {"type": "string"},
                        "published_at": NULLABLE_TIME,
                        "first_seen_at": {"type": "string", "format": "date-time"},
                        "story_id": {"type": ["integer", "null"]},
                    },
                },
                "ArticleDetail": {
                    "allOf": [
                        _ref("Article"),
                        {
                            "type": "object",
                            "properties": {
                                "body": {"type": "string"},
                                "matches": {"type": "array", "items": {"type": "object"}},
                                "alerts": {"type": "array", "items": _ref("Alert")},
                                "feedback": {"type": "array", "items": _ref("Feedback")},
                                "story": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    ]
                },
                "Topic": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "query": NULLABLE_STRING,
                        "description": NULLABLE_STRING,
                        "matches": {"type": "integer"},
                        "matches_per_day": {"type": "array", "items": {"type": "array"}},
                        "relevant": {"type": "integer"},
                        "not_relevant": {"type": "integer"},
                        "precision": {"type": ["number", "null"]},
                    },
                },
                "Feed": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "url": NULLABLE_STRING,
                        "health_state": {"type": "string"},
                    },
                },
                "Alert": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string"},
                        "channel": {"type": "string"},
                        "status": {"type": "string"},
                        "attempts": {"type": "integer"},
                        "last_error": NULLABLE_STRING,
                        "article_id": {"type": ["integer", "null"]},
                        "topic": NULLABLE_STRING,
                        "title": NULLABLE_STRING,
                    },
                },
                "Feedback": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "article_id": {"type": "integer"},
                        "topic": {"type": "string"},
                        "relevant": {"type": "boolean"},
                        "user_name": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    }
