import factory
from django.contrib.auth import get_user_model


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example.org")
    is_staff = True
    password = factory.django.Password("correct-horse-battery-staple")
