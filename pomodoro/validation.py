def validated(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data; a ValidationError (400 `invalid`) otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
