"""The Streamlit app's pages (one module per page) and their shared widgets (``ui.common``)."""
