"""Drives `marcus mcp` with the official MCP Python SDK's stdio client.

Usage: python3 mcp_stdio_client.py MARCUS_BINARY SERVER_URL

Launches `MARCUS_BINARY mcp --url SERVER_URL` as a stdio MCP server, initializes, lists the
tools, pings, creates a project, registers an agent and takes a task, then prints one JSON
object with what it saw for the Rust suite (tests/stdio_mcp.rs) to check.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client


def structured(result):
    """A tool result's structured content, failing loudly on a tool error."""
    if result.is_error:
        raise SystemExit(f"tool failed: {result.content}")
    return result.structured_content


async def main(binary: str, url: str) -> None:
    server = StdioServerParameters(
        command=binary,
        args=["mcp", "--url", url],
        env={"RUST_LOG": "warn"},
    )
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            await session.send_ping()
            created = structured(
                await session.call_tool(
                    "create_project",
                    {
                        "project_name": "stdio demo",
                        "tasks": [
                            {"name": "API", "estimated_hours": 1},
                            {"name": "UI", "dependencies": ["API"]},
                        ],
                    },
                )
            )
            registered = structured(
                await session.call_tool(
                    "register_agent",
                    {
                        "agent_id": "stdio-agent",
                        "name": "Stdio Agent",
                        "role": "Developer",
                        "skills": ["python"],
                        "project_id": created["project_id"],
                    },
                )
            )
            task = structured(
                await session.call_tool(
                    "request_next_task", {"agent_id": "stdio-agent"}
                )
            )
    print(
        json.dumps(
            {
                "protocol_version": init.protocol_version,
                "server_name": init.server_info.name,
                "tools": sorted(t.name for t in tools.tools),
                "ping": "ok",
                "project": created,
                "registered": registered,
                "task": task,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
