"""Free-text answers into themes: embedding, preprocessing, clustering, codebooks, agreement.

Every heavy library (sentence-transformers, scikit-learn, lingua) is imported
inside the function that needs it, so that importing this package stays cheap.
"""
