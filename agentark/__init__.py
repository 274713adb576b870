"""AgentArk Studio: run multi-agent debates, curate and label their reasoning, distill it into one model.

The library does all the work; the Streamlit pages and the CLI (``python -m agentark``) are thin faces.
"""
__version__ = "0.1.0"
